provider "a1base" {
  account_id = "acc_rel"
  from       = "+14155552671"
}
group "eng" { # ERROR: Missing required argument
  service = "whatsapp"
}
