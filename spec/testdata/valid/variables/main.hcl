provider "a1base" {
  from = var.sender
}

variable "sender" {
  description = "The default agent number."
  type        = string
  default     = "+10000000000"
}

variable "from_env" {
  type    = string
  default = "default"
}

variable "from_auto" {
  default = "default"
}

variable "auto_order" {
  default = "default"
}

variable "from_file" {
  default = "default"
}

variable "from_cli" {
  default = "default"
}

variable "cli_order" {
  default = "default"
}

variable "count" {
  type    = number
  default = 1
}

variable "teams" {
  type = list(string)
}

variable "settings" {
  type = object({
    hour    = number
    service = optional(string, "telegram")
  })
  default = { hour = 9 }
}

variable "nullable" {
  type    = string
  default = null
}

group "main" {
  thread_id = "t-main"
  service   = var.settings.service
}

message "values" {
  group   = group.main
  send_at = format("2027-02-01T%02d:00:00Z", var.settings.hour)
  text = join(" ", [
    var.sender, var.from_env, var.from_auto, var.auto_order, var.from_file,
    var.from_cli, var.cli_order, tostring(var.count + 1), join(",", var.teams),
    coalesce(var.nullable, "was-null"),
  ])
}
