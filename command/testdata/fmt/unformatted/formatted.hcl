group "sales" {
  thread_id = "group-thread-id-456"
}
