mesage "hello" { # ERROR: Unsupported block type
  text = "hi"
}
