variable "board" {
  description = "The caller's group the announcement goes to."
}

variable "threads" {
  type = list(string)
}

module "footer" {
  source = "./footer"
}

message "launch" {
  group   = var.board
  send_at = "2027-01-04T08:00:00Z"
  text    = "Threads: ${join(", ", var.threads)}. ${module.footer.text}"
}
