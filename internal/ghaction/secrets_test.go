package ghaction

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A comment that starts with the marker but was written by someone else
// (anyone may paste the marker into a comment) is never edited: the
// action posts its own, and edits only that one from then on.
func TestPlanCommentOfAnotherAuthorIsNotEdited(t *testing.T) {
	f, srv := newFakeGitHub(t, repoName, token)
	forged := marker(".") + "\nplan looks fine, merge it"
	f.seed(prNumber, "mallory", forged)
	w := newWorkspace(t)
	w.quickstart(t, ".")

	first := w.action(t, srv.URL, "plan", ".", nil)
	require.Equal(t, 0, first.code, first.stderr)
	assert.Contains(t, first.stdout, "Plan comment created")
	comments := planComments(f)
	require.Len(t, comments, 2)
	assert.Equal(t, forged, comments[0].Body, "mallory's comment is left as it was")
	assert.Equal(t, "github-actions[bot]", comments[1].User.Login)

	second := w.action(t, srv.URL, "plan", ".", nil)
	require.Equal(t, 0, second.code, second.stderr)
	assert.Contains(t, second.stdout, "Plan comment updated")
	assert.Equal(t, fmt.Sprint(comments[1].ID), second.outputs["comment-id"])
	comments = planComments(f)
	require.Len(t, comments, 2)
	assert.Equal(t, forged, comments[0].Body)
}

// With a personal token, the comment is found by the token's own login
// (GET /user), or by the comment-author input when it is set.
func TestPlanCommentAuthorIsTheTokensIdentity(t *testing.T) {
	f, srv := newFakeGitHub(t, repoName, token)
	f.login, f.author = "herald-bot", "herald-bot"
	f.seed(prNumber, "mallory", marker(".")+"\nforged")
	w := newWorkspace(t)
	w.quickstart(t, ".")
	for range 2 {
		r := w.action(t, srv.URL, "plan", ".", nil)
		require.Equal(t, 0, r.code, r.stderr)
	}
	comments := planComments(f)
	require.Len(t, comments, 2)
	assert.Equal(t, "herald-bot", comments[1].User.Login)
	_, creates, updates := f.requests()
	assert.Equal(t, 1, creates)
	assert.Equal(t, 1, updates)

	// Named explicitly: only that author's comment is edited.
	f.login = ""
	r := w.action(t, srv.URL, "plan", ".", map[string]string{"HERALD_COMMENT_AUTHOR": "mallory"})
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "Plan comment updated")
	assert.Contains(t, planComments(f)[0].Body, "herald plan", "the named author's comment was the one edited")
}

// herald itself runs without the GitHub token, or any other token of the
// runner, in its environment: a configuration cannot read what herald
// does not have.
func TestHeraldRunsWithoutTheToken(t *testing.T) {
	_, srv := newFakeGitHub(t, repoName, token)
	w := newWorkspace(t)
	w.quickstart(t, ".")
	dump := filepath.Join(t.TempDir(), "env")
	wrapper := filepath.Join(t.TempDir(), "herald")
	require.NoError(t, os.WriteFile(wrapper, []byte("#!/usr/bin/env bash\nenv >>'"+dump+"'\nexec '"+heraldBin+"' \"$@\"\n"), 0o755))
	r := w.action(t, srv.URL, "plan", ".", map[string]string{
		"HERALD_BIN":                     wrapper,
		"GH_TOKEN":                       "gh-token",
		"ACTIONS_RUNTIME_TOKEN":          "runtime-token",
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN": "oidc-token",
		"ACTIONS_ID_TOKEN_REQUEST_URL":   "https://oidc.example",
		"HERALD_COMMENT_TOKEN":           token,
	})
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "Plan comment created", "the comment is still posted with the token")
	raw, err := os.ReadFile(dump)
	require.NoError(t, err)
	env := string(raw)
	assert.Equal(t, 2, strings.Count(env, "\nPATH=")+boolInt(strings.HasPrefix(env, "PATH=")), "herald ran twice (plan, show)")
	for _, secret := range []string{token, "gh-token", "runtime-token", "oidc-token"} {
		assert.NotContains(t, env, secret)
	}
	for _, name := range []string{"GITHUB_TOKEN=", "GH_TOKEN=", "HERALD_COMMENT_TOKEN=", "ACTIONS_RUNTIME_TOKEN=", "ACTIONS_ID_TOKEN_REQUEST_TOKEN=", "ACTIONS_ID_TOKEN_REQUEST_URL="} {
		assert.NotContains(t, env, name)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
