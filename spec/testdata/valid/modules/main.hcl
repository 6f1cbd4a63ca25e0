provider "a1base" {
  from = "+14155552671"
}

group "board" {
  thread_id = "t-board"
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
  greeting  = "${each.value.hello}, ${each.key}"
}

module "announce" {
  source  = "./modules/announce"
  board   = group.board
  threads = [for k, m in module.weekly : m.thread_id]
}

message "digest" {
  group   = group.board
  send_at = "2027-01-04T07:00:00Z"
  text    = "Weekly programme for ${length(module.weekly)} communities; first: ${module.weekly["berlin"].first_standup}"
}
