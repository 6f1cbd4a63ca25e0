# Two A1Base accounts: the default one sends to the American communities,
# the "eu" one (its own credentials in A1BASE_EU_API_KEY and
# A1BASE_EU_API_SECRET, its own rate limit) to the European ones, through
# A1Base's universal send endpoint. `herald plan` shows which account sends
# each message; `herald apply -sandbox` sends everything to a local fake.

provider "a1base" {
  account_id = "acc_americas"
  from       = "+14155552671"
  rate_limit = "10/s"
}

provider "a1base" {
  alias      = "eu"
  account_id = "acc_europe"
  from       = "+442071838750"
  rate_limit = "2/s"
  endpoint   = "universal"
  timezone   = "Europe/Berlin"
}

locals {
  communities = {
    nyc    = { thread = "thread-nyc", provider = "default", hello = "Welcome to the weekly programme!" }
    sf     = { thread = "thread-sf", provider = "default", hello = "Welcome to the weekly programme!" }
    berlin = { thread = "thread-berlin", provider = "eu", hello = "Willkommen zum Wochenprogramm!" }
    paris  = { thread = "thread-paris", provider = "eu", hello = "Bienvenue au programme de la semaine !" }
  }
}

group "nyc" {
  thread_id = local.communities.nyc.thread
  timezone  = "America/New_York"
}

group "sf" {
  thread_id = local.communities.sf.thread
  timezone  = "America/Los_Angeles"
}

group "berlin" {
  thread_id = local.communities.berlin.thread
  provider  = a1base.eu
}

group "paris" {
  thread_id = local.communities.paris.thread
  provider  = a1base.eu
  timezone  = "Europe/Paris"
}

# The same programme for every community at 09:00 in its own zone and
# language, sent by the community's account.
message "welcome" {
  for_each = group
  group    = each.value
  send_at  = "2027-01-04 09:00"
  text     = local.communities[each.key].hello
}

message "programme" {
  for_each = group
  group    = each.value
  send_at  = "2027-01-04 09:05"
  media {
    url     = "https://example.com/programme-2027-w01.pdf"
    type    = "document"
    caption = "Programme, week 1"
  }
}
