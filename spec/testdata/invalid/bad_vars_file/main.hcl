variable "count" {
  type = number
}

variable "name" {
  type = string
}

variable "third" {
  default = "x"
}
