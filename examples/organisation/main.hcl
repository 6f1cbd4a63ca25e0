# An organisation with several communities that each get the same weekly
# programme, in their own time zone and language. The programme is written
# once, in modules/weekly, and instantiated per community with for_each:
# its messages are addressed module.community["berlin"].message.standup[...].
#
#   herald validate
#   herald plan -at=2027-03-01T08:10:00Z     # Monday 09:10 in Berlin
#   herald apply -sandbox -auto-approve -at=2027-03-01T08:10:00Z
#
# At that moment Berlin's standup is due, Tokyo's went past its 30 minute
# window hours ago (it is recorded as expired, never sent late) and São
# Paulo's is still to come.

provider "a1base" {
  account_id = "acc_organisation"
  from       = "+14155552671"
  rate_limit = "10/s"
}

# A second A1Base account, the organisers' own: its credentials come from
# A1BASE_HQ_API_KEY and A1BASE_HQ_API_SECRET, and its sends count against
# its own rate limit, not the communities' account's.
provider "a1base" {
  alias      = "hq"
  account_id = "acc_organisation_hq"
  from       = "+442071838750"
  rate_limit = "2/s"
  endpoint   = "universal"
}

# The organisers' own group, sent to from the hq account; the announcement
# module sends to it.
group "organisers" {
  thread_id = "group-thread-organisers"
  timezone  = "UTC"
  provider  = a1base.hq
}

locals {
  communities = {
    berlin = {
      thread_id = "group-thread-berlin"
      timezone  = "Europe/Berlin"
      greeting  = "Guten Morgen"
      standup   = "Standup in 15 Minuten"
    }
    sao_paulo = {
      thread_id = "group-thread-sao-paulo"
      timezone  = "America/Sao_Paulo"
      greeting  = "Bom dia"
      standup   = "Standup em 15 minutos"
    }
    tokyo = {
      thread_id = "group-thread-tokyo"
      timezone  = "Asia/Tokyo"
      greeting  = "おはようございます"
      standup   = "15分後にスタンドアップ"
    }
  }
}

module "community" {
  for_each = local.communities
  source   = "./modules/weekly"

  name      = each.key
  thread_id = each.value.thread_id
  timezone  = each.value.timezone
  greeting  = each.value.greeting
  standup   = each.value.standup
  # The organisers hear about each community's review too: a group is
  # passed into a module like any other value.
  organisers = group.organisers
}

message "programme" {
  group   = group.organisers
  send_at = "2027-03-01T06:00:00Z"
  text    = "This week's programme goes to ${join(", ", [for name, c in module.community : "${name} (${c.timezone})"])}."
}
