locals {
  a = 1
  nested { # ERROR: Unexpected "nested" block
  }
}
