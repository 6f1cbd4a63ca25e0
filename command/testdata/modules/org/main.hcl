provider "a1base" {
  account_id = "acc_test"
  from       = "+14155552671"
}

# The board's announcements go out from the organisation's second account.
provider "a1base" {
  alias      = "hq"
  account_id = "acc_hq"
  from       = "+14155550199"
}

group "board" {
  thread_id = "t-board"
  provider  = a1base.hq
}

locals {
  communities = {
    berlin = { thread = "t-berlin", zone = "Europe/Berlin", hello = "Guten Morgen" }
    tokyo  = { thread = "t-tokyo", zone = "Asia/Tokyo", hello = "Ohayou" }
    lima   = { thread = "t-lima", zone = "America/Lima", hello = "Buenos dias" }
  }
}

module "weekly" {
  for_each  = local.communities
  source    = "./modules/weekly"
  thread_id = each.value.thread
  timezone  = each.value.zone
  greeting  = each.value.hello
}

module "notice" {
  source = "./modules/notice"
  board  = group.board
  count_ = length(module.weekly)
}

message "digest" {
  group   = group.board
  send_at = "2026-12-07T07:00:00Z"
  text    = "Programme sent to ${module.weekly["berlin"].thread_id} and ${length(module.weekly) - 1} more"
}
