group "ops" {
thread_id = "t-ops"
}
