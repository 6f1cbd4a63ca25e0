provider "twilio" { # ERROR: Unsupported provider
  from = "+14155552671"
}
