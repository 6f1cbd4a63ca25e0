group "g" {
  thread_id = "t"
  from      = "+14155552671"
}

message "long" {
  group   = group.g
  send_at = "2027-01-01T00:00:00Z"
  text    = replace(format("%4097s", ""), " ", "é") # ERROR: Text too long
}

message "long_caption" {
  group   = group.g
  send_at = "2027-01-01T00:00:00Z"
  media {
    url     = "https://example.com/a.png"
    type    = "image"
    caption = format("%5000s", "") # ERROR: Caption too long
  }
}
