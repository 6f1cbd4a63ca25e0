# A file that parses is still checked when another one does not: its own
# structure, not its references into the broken file.
group "ops" {
  thread_id = "group-thread-ops"
  colour    = "red" # ERROR: Unsupported argument
}
