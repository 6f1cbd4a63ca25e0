package state

import (
	"sort"

	"github.com/heraldhq/herald/addrs"
)

// Select lists the recorded addresses any of sel selects (message.NAME
// selects every instance of the block; an empty sel selects every record),
// sorted.
func (s *Snapshot) Select(sel []addrs.Message) []string {
	var out []string
	for key := range s.Records {
		if len(sel) == 0 {
			out = append(out, key)
			continue
		}
		a, err := addrs.ParseMessage(key)
		if err != nil {
			continue
		}
		for _, want := range sel {
			if a.Contains(want) {
				out = append(out, key)
				break
			}
		}
	}
	sort.Strings(out)
	return out
}

// Remove returns a copy of s without the records sel selects, with their
// addresses sorted; s itself is left as it is. Every address of sel must
// select a record: missing lists those that select none, as given, and
// then nothing is removed (next is nil).
func (s *Snapshot) Remove(sel []addrs.Message) (next *Snapshot, removed, missing []string) {
	remove := map[string]bool{}
	for _, a := range sel {
		found := s.Select([]addrs.Message{a})
		if len(found) == 0 {
			missing = append(missing, a.String())
		}
		for _, key := range found {
			remove[key] = true
		}
	}
	if len(missing) > 0 {
		return nil, nil, missing
	}
	next = s.Clone()
	removed = make([]string, 0, len(remove))
	for key := range remove {
		delete(next.Records, key)
		removed = append(removed, key)
	}
	sort.Strings(removed)
	return next, removed, nil
}
