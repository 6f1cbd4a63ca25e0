locals {
  a = local.b # ERROR: Reference cycle
  b = "${local.c}!"
  c = upper(local.a)
  d = local.d # ERROR: Reference cycle
  e = local.a
}
