provider "a1base" {
  account_id  = ["acc"] # ERROR: Incorrect attribute value type
  from        = "+14155552671"
  base_url    = "ftp://example.com" # ERROR: Invalid base_url
  check_media = "sometimes" # ERROR: Incorrect attribute value type
}
