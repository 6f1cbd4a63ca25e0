# Every per-service limit, just under (no error) and just over (an error on
# the offending attribute's line).

group "wa" {
  thread_id = "t-wa"
  from      = "+14155552671"
}

group "tg" {
  thread_id = "t-tg"
  service   = "telegram"
  from      = "+14155552671"
}

message "wa_text_4096" {
  group   = group.wa
  send_at = "2027-01-01T00:00:00Z"
  text    = replace(format("%4096s", ""), " ", "é")
}

message "wa_text_4097" {
  group   = group.wa
  send_at = "2027-01-01T00:00:00Z"
  text    = replace(format("%4097s", ""), " ", "é") # ERROR: Text too long
}

message "wa_caption_1024" {
  group   = group.wa
  send_at = "2027-01-01T00:00:00Z"
  media {
    url     = "https://example.com/a.png"
    type    = "image"
    caption = format("%1024s", "")
  }
}

message "wa_caption_1025" {
  group   = group.wa
  send_at = "2027-01-01T00:00:00Z"
  media {
    url     = "https://example.com/a.png"
    type    = "image"
    caption = format("%1025s", "") # ERROR: Caption too long
  }
}

message "wa_audio_no_caption" {
  group   = group.wa
  send_at = "2027-01-01T00:00:00Z"
  media {
    url  = "https://example.com/a.mp3"
    type = "audio"
  }
}

message "wa_audio_caption" {
  group   = group.wa
  send_at = "2027-01-01T00:00:00Z"
  media {
    url     = "https://example.com/a.mp3"
    type    = "audio"
    caption = "Listen" # ERROR: Caption not supported
  }
}

message "wa_empty_text" {
  group   = group.wa
  send_at = "2027-01-01T00:00:00Z"
  text    = ""
}

# Telegram counts UTF-16 code units: an emoji outside the BMP is two.
message "tg_text_4096" {
  group   = group.tg
  send_at = "2027-01-01T00:00:00Z"
  text    = replace(format("%2048s", ""), " ", "😀")
}

message "tg_text_4097" {
  group   = group.tg
  send_at = "2027-01-01T00:00:00Z"
  text    = "${replace(format("%2048s", ""), " ", "😀")}a" # ERROR: Text too long
}

message "tg_caption_1024" {
  group   = group.tg
  send_at = "2027-01-01T00:00:00Z"
  media {
    url     = "https://example.com/a.mp3"
    type    = "audio"
    caption = format("%1024s", "")
  }
}

message "tg_caption_1025" {
  group   = group.tg
  send_at = "2027-01-01T00:00:00Z"
  media {
    url     = "https://example.com/a.pdf"
    type    = "document"
    caption = replace(format("%1025s", ""), " ", "é") # ERROR: Caption too long
  }
}

message "tg_text_1" {
  group   = group.tg
  send_at = "2027-01-01T00:00:00Z"
  text    = "a"
}

message "tg_empty_text" {
  group   = group.tg
  send_at = "2027-01-01T00:00:00Z"
  text    = "" # ERROR: Empty text
}

# for_each instances are checked one by one, each on the attribute's line.
message "per_instance" {
  for_each = { short = 1024, long = 1025 }
  group    = group.tg
  send_at  = "2027-01-01T00:00:00Z"
  media {
    url     = "https://example.com/a.png"
    type    = "image"
    caption = format("%${each.value}s", "") # ERROR: Caption too long
  }
}
