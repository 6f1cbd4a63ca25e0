provider "a1base" {
  from = "+14155552671"
}

module "city" {
  for_each = toset(["berlin", "paris", "rome"])
  source   = "./city"
  name     = each.key
}

group "root" {
  thread_id = "t-root"
}

message "bad_root" {
  group         = group.root
  send_at       = "2026-12-01T09:00:00Z"
  expires_after = "soon" # ERROR: Invalid expires_after
  text          = "x"
}

# The messages these name failed to evaluate: that error is the one to
# fix, and the import and moved blocks say nothing more.
import {
  to = module.city["berlin"].message.hello
}

import {
  to = message.bad_root
}

moved {
  from = message.hello
  to   = module.city["paris"].message.hello
}

# A mistake of its own is still reported.
import {
  to = module.city["berlin"].message.helo # ERROR: Import to a message that does not exist
}
