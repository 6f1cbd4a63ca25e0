provider "a1base" {
  from = "+14155552671"
}

module "a" {
  source = "./modules/a"
}
