//go:build deps

// This file pins modules that packages of herald import while they are being
// written; it is removed once every dependency is imported for real.
package main

import (
	_ "github.com/agext/levenshtein"
	_ "github.com/gofrs/flock"
	_ "github.com/google/go-cmp/cmp"
	_ "github.com/hashicorp/hcl/v2"
	_ "github.com/hashicorp/hcl/v2/ext/tryfunc"
	_ "github.com/hashicorp/hcl/v2/ext/typeexpr"
	_ "github.com/hashicorp/hcl/v2/hclwrite"
	_ "github.com/jackc/pgx/v5"
	_ "github.com/mattn/go-isatty"
	_ "github.com/robfig/cron/v3"
	_ "github.com/schollz/progressbar/v3"
	_ "github.com/stretchr/testify/require"
	_ "github.com/zclconf/go-cty/cty/function/stdlib"
	_ "golang.org/x/term"
	_ "golang.org/x/time/rate"
)
