variable "secret_code" {
  type      = string
  sensitive = true

  validation {
    condition     = can(regex("^.{4,}$", var.secret_code))
    error_message = "The code must have at least four characters."
  }
}

variable "public" {
  type    = string
  default = "hello"

  validation {
    condition     = can(regex("^[a-z]+$", var.public))
    error_message = "Lower-case letters only."
  }
  validation {
    condition     = !can(regex("^.{10}", var.public))
    error_message = "Too long."
  }
}

provider "a1base" {
  from = "+14155552671"
}

group "eng" {
  thread_id = "t-eng"
}

message "secret_text" {
  group   = group.eng
  send_at = "2027-03-01T09:00:00Z"
  text    = "The code is ${var.secret_code}"
}

message "secret_caption" {
  group   = group.eng
  send_at = "2027-03-01T09:00:00Z"
  media {
    url     = "https://example.com/a.png"
    type    = "image"
    caption = upper(var.secret_code)
  }
}

message "public_text" {
  group   = group.eng
  send_at = "2027-03-01T09:00:00Z"
  text    = var.public
}

message "marked_by_function" {
  group   = group.eng
  send_at = "2027-03-01T09:00:00Z"
  media {
    url  = sensitive("https://example.com/private.mp4")
    type = "video"
  }
}
