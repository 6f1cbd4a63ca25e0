// Package ghaction tests herald's GitHub Action: action.yml at the
// repository root and the script it runs, scripts/github-action.sh. The
// tests run the script as the action does, against fake GitHub API and
// release download servers on loopback and a herald built from this
// checkout. It holds no code herald uses.
package ghaction
