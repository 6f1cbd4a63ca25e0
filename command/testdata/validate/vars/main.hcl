variable "thread" {
  type = string
}

provider "a1base" {
  account_id = "acc_123"
  from       = "+14155552671"
}

group "eng" {
  thread_id = var.thread
}
