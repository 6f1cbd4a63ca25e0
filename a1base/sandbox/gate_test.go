package sandbox

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestGateHoldsAfterPass(t *testing.T) {
	api := NewHandler()
	g := NewGate(api, 1)
	srv := httptest.NewServer(g)
	defer func() { g.Open(); api.Close(); srv.Close() }()
	send := func() <-chan int {
		done := make(chan int, 1)
		go func() {
			body := `{"content":"hi","from":"+14155552671","thread_id":"t","service":"whatsapp"}`
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/messages/group/acc/send", strings.NewReader(body))
			req.Header.Set("X-API-Key", "k")
			req.Header.Set("X-API-Secret", "s")
			req.Header.Set("Content-Type", "application/json")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				done <- 0
				return
			}
			res.Body.Close()
			done <- res.StatusCode
		}()
		return done
	}
	if code := <-send(); code != http.StatusOK {
		t.Fatalf("first send answered %d, want 200", code)
	}
	second := send()
	<-g.Held()
	select {
	case code := <-second:
		t.Fatalf("a held send was answered (%d) before the gate opened", code)
	case <-time.After(50 * time.Millisecond):
	}
	if n := len(api.Sends()); n != 1 {
		t.Fatalf("%d sends delivered while one is held, want 1", n)
	}
	g.Open()
	if code := <-second; code != http.StatusOK {
		t.Fatalf("released send answered %d, want 200", code)
	}
	g.Wait()
	if n := len(api.Sends()); n != 2 {
		t.Fatalf("%d sends delivered, want 2", n)
	}
	if got := api.Contents(); len(got) != 2 || got[0] != "hi" || got[1] != "hi" {
		t.Fatalf("contents %q, want two \"hi\"", got)
	}
}
