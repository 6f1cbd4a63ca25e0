backend "postgres" {
  conn_str = "postgres://localhost/db"
}

backend "postgres" { # ERROR: Duplicate backend configuration
}

backend "s3" { # ERROR: Unsupported backend type
}
