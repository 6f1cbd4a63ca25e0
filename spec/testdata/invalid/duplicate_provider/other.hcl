provider "a1base" { # ERROR: Duplicate provider configuration
  from = "+14155552672"
}
