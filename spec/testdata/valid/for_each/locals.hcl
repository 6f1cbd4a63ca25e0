locals {
  base     = "2027-01-04T09:00:00+01:00"
  offsets  = { eng = "0h", sales = "1h", ops = "2h30m" }
  send     = { for name, off in local.offsets : name => timeadd(local.base, off) }
  people   = toset(["ann", "bob"])
  team     = [group.eng, group.ops]
  greeting = "Hello"
  shout    = upper(local.greeting)
}

locals {
  chain_c = "${local.chain_b}!"
  chain_b = "${local.chain_a} there"
  chain_a = local.greeting
}
