group "eng" {
thread_id = "t-eng"
}
