provider "a1base" {
  account_id = "acc_media"
  from       = "+14155552671"
}

variable "door_code" {
  type      = string
  sensitive = true
  default   = "4711"
}

variable "token" {
  type      = string
  sensitive = true
  default   = "tok-9f2c"
}

group "eng" {
  thread_id = "t-eng"
}

# Only the caption is sensitive: the URL is shown.
message "poster" {
  group   = group.eng
  send_at = "2026-12-01T07:30:00Z"
  media {
    url     = "https://example.com/launch-poster.png"
    type    = "image"
    caption = "Door code: ${var.door_code}"
  }
}

# The URL carries a sensitive token: it stays hidden, the caption is shown.
message "report" {
  group   = group.eng
  send_at = "2026-12-01T07:45:00Z"
  media {
    url     = "https://example.com/q4.pdf?token=${var.token}"
    type    = "document"
    caption = "Q4 figures"
  }
}
