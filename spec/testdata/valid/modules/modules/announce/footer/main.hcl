output "text" {
  value = "Sent by herald."
}
