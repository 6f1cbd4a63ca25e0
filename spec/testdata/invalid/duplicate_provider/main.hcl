provider "a1base" {
  from = "+14155552671"
}
