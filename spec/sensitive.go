package spec

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"

	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// A saved plan must be refused when a sensitive value changed since it was
// made, yet it may hold neither the value nor a plain hash of it (a short
// secret's hash is guessed by trying every value). So sensitive values are
// hashed only with HMAC-SHA256 under a key the caller keeps elsewhere (the
// plan key, see the command package): without the key, the hashes say
// nothing about the values.

// sensitiveVars renders the sensitive root variables' values, in name order,
// for SensitiveVarsHash. It stays in memory only.
func (l *loader) sensitiveVars() []byte {
	var out []byte
	for _, name := range sortedKeys(l.mod.variableByName) {
		v := l.mod.variableByName[name]
		val, ok := l.vars[name]
		if !ok || !v.Sensitive {
			continue
		}
		plain, _ := val.value.UnmarkDeep()
		js, err := ctyjson.Marshal(plain, plain.Type())
		if err != nil {
			js = []byte(plain.GoString())
		}
		out = fmt.Appendf(out, "var\x00%s\x00%d\x00", v.Name, len(js))
		out = append(out, js...)
	}
	return out
}

// HasSensitiveVars reports whether a root variable declared sensitive has
// a value.
func (c *Config) HasSensitiveVars() bool { return len(c.sensitiveVars) > 0 }

// IsSensitiveVar reports whether the root variable name is declared
// sensitive, so that its value must not be printed, even in a suggested
// command.
func (c *Config) IsSensitiveVar(name string) bool { return c.sensitiveNames[name] }

// SensitiveVarsHash is the HMAC-SHA256 under key of the sensitive root
// variables' values; "" when there are none.
func (c *Config) SensitiveVarsHash(key []byte) string {
	if len(c.sensitiveVars) == 0 {
		return ""
	}
	return keyedSum(key, func(h hash.Hash) { h.Write(c.sensitiveVars) })
}

// SensitiveContentHash is the HMAC-SHA256 under key of a sensitive
// instance's content (text, or media URL, type and caption); "" for an
// instance that is not sensitive, whose ContentHash covers its content.
func (i *Instance) SensitiveContentHash(key []byte) string {
	if !i.Sensitive {
		return ""
	}
	return keyedSum(key, func(h hash.Hash) {
		if i.Media != nil {
			io.WriteString(h, "media\x00"+i.Media.URL+"\x00"+i.Media.Type+"\x00"+i.Media.Caption)
		} else {
			io.WriteString(h, "text\x00"+i.Text)
		}
	})
}

func keyedSum(key []byte, write func(hash.Hash)) string {
	h := hmac.New(sha256.New, key)
	write(h)
	return "hmac-sha256:" + hex.EncodeToString(h.Sum(nil))
}
