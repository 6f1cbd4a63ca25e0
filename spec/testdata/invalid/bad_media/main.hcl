group "g" {
  thread_id = "t"
  from      = "+14155552671"
}

message "bad_type" {
  group   = group.g
  send_at = "2027-01-01T00:00:00Z"
  media {
    url  = "https://example.com/a.gif"
    type = "gif" # ERROR: Invalid media type
  }
}

message "http" {
  group   = group.g
  send_at = "2027-01-01T00:00:00Z"
  media {
    url  = "http://example.com/a.png" # ERROR: Invalid media url
    type = "image"
  }
}

message "no_url" {
  group   = group.g
  send_at = "2027-01-01T00:00:00Z"
  media { # ERROR: Missing required argument
    type = "image"
  }
}

message "two" {
  group   = group.g
  send_at = "2027-01-01T00:00:00Z"
  media {
    url  = "https://example.com/a.png"
    type = "image"
  }
  media { # ERROR: Duplicate media block
    url  = "https://example.com/b.png"
    type = "image"
  }
}
