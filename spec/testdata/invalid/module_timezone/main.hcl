provider "a1base" {
  from     = "+14155552671"
  timezone = "Europe/Berlin"
}

module "city" {
  source   = "./city"
  timezone = "Europe/Berln" # ERROR: Unknown time zone
}

module "towns" {
  for_each = toset(["a", "b"])
  source   = "./city"
  timezone = "america/new_york" # ERROR: Unknown time zone
}
