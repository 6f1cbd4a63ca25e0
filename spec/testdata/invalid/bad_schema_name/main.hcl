backend "postgres" {
  schema_name = "drop table;" # ERROR: Invalid schema_name
}
