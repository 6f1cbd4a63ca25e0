package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldhq/herald/internal/clock"

	"github.com/heraldhq/herald/a1base"
	"github.com/heraldhq/herald/a1base/sandbox"
	"github.com/heraldhq/herald/spec"
)

// fake is herald's fake A1Base served on a loopback port by the harness,
// so that herald and the bare loop send to the same server code, and the
// harness reads arrival times from it directly.
type fake struct {
	API *sandbox.API
	URL string
	srv *http.Server
	// conns counts the connections clients opened: a client that keeps
	// too few idle connections for its parallelism dials again and again.
	conns atomic.Int64
}

func startFake() (*fake, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	api := sandbox.NewHandler(sandbox.WithCredentials(benchKey, benchSecret), sandbox.WithAccountID(benchAccount))
	f := &fake{API: api, URL: "http://" + ln.Addr().String() + "/v1"}
	f.srv = &http.Server{Handler: api, ReadHeaderTimeout: 10 * time.Second, ConnState: func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			f.conns.Add(1)
		}
	}}
	go f.srv.Serve(ln)
	return f, nil
}

func (f *fake) Close() {
	f.API.Close()
	f.srv.Close()
}

// env is what herald needs to send to the fake.
func (f *fake) env() []string {
	return []string{
		"A1BASE_BASE_URL=" + f.URL,
		"A1BASE_API_KEY=" + benchKey,
		"A1BASE_API_SECRET=" + benchSecret,
		"A1BASE_ACCOUNT_ID=" + benchAccount,
	}
}

// sendArrivals returns the arrival times of the group sends, sorted.
func (f *fake) sendArrivals() []time.Time {
	var out []time.Time
	for _, a := range f.API.Arrivals() {
		if a.Method == http.MethodPost {
			out = append(out, a.Arrived)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out
}

// groupQueues turns cfg's instances into the requests herald would make,
// one queue per group in send_at order.
func groupQueues(cfg *spec.Config) [][]a1base.SendRequest {
	index := map[string]int{}
	var queues [][]a1base.SendRequest
	for _, inst := range cfg.Instances { // already in send_at order
		g := inst.Group.Name
		i, ok := index[g]
		if !ok {
			i = len(queues)
			index[g] = i
			queues = append(queues, nil)
		}
		req := a1base.SendRequest{Content: inst.Content(), From: inst.From, ThreadID: inst.ThreadID, Service: inst.Service}
		if inst.Media != nil {
			req.AttachmentURI = inst.Media.URL
		}
		queues[i] = append(queues[i], req)
	}
	return queues
}

// bareLoop is the floor herald's apply is held to: parallelism workers
// take groups from a queue and send each group's messages in order; before
// each request a worker appends one line to a journal and fsyncs it, the
// least any sender that keeps "durable before the request leaves" must do.
// It records no outcome, plans nothing and keeps no state file.
func bareLoop(baseURL string, queues [][]a1base.SendRequest, parallelism int, journalPath string) (time.Duration, error) {
	j, err := os.OpenFile(journalPath, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o600)
	if err != nil {
		return 0, err
	}
	defer j.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: parallelism}}
	url := baseURL + "/messages/group/" + benchAccount + "/send"

	start := clock.Now()
	next := make(chan []a1base.SendRequest)
	errs := make(chan error, parallelism)
	var wg sync.WaitGroup
	for range parallelism {
		wg.Go(func() {
			var line []byte
			for q := range next {
				for i, req := range q {
					body, err := json.Marshal(req)
					if err != nil {
						errs <- err
						return
					}
					line = append(line[:0], `{"thread_id":`...)
					line = strconv.AppendQuote(line, req.ThreadID)
					line = append(line, `,"n":`...)
					line = strconv.AppendInt(line, int64(i), 10)
					line = append(line, "}\n"...)
					if _, err := j.Write(line); err != nil {
						errs <- err
						return
					}
					if err := j.Sync(); err != nil {
						errs <- err
						return
					}
					if err := post(client, url, body); err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	var failed error
feed:
	for _, q := range queues {
		select {
		case next <- q:
		case failed = <-errs:
			break feed
		}
	}
	close(next)
	wg.Wait()
	elapsed := clock.Since(start)
	if failed == nil {
		select {
		case failed = <-errs:
		default:
		}
	}
	client.CloseIdleConnections()
	return elapsed, failed
}

func post(client *http.Client, url string, body []byte) error {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Key", benchKey)
	req.Header.Set("X-API-Secret", benchSecret)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("send answered %s: %s", resp.Status, answer)
	}
	return nil
}
