package ghaction

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
)

// comment is an issue comment as GitHub's REST API returns it.
type comment struct {
	ID   int64  `json:"id"`
	Body string `json:"body"`
	User struct {
		Login string `json:"login"`
		Type  string `json:"type"`
	} `json:"user"`
}

// fakeGitHub implements the issue-comment endpoints the action uses, for
// one repository: list (paginated), create and update.
type fakeGitHub struct {
	t     *testing.T
	repo  string
	token string

	mu       sync.Mutex
	comments map[int][]*comment // by pull request number, in creation order
	nextID   int64
	creates  int
	updates  int
	lists    int
	refuse   bool // answer writes with 403, as a fork's read-only token gets
	// login is who GET /user says the token is; empty answers 403, as
	// it does for the GITHUB_TOKEN of a workflow.
	login string
	// author is who the comments the token creates are by.
	author string
}

func newFakeGitHub(t *testing.T, repo, token string) (*fakeGitHub, *httptest.Server) {
	f := &fakeGitHub{t: t, repo: repo, token: token, comments: map[int][]*comment{}, nextID: 1000}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /repos/{owner}/{repo}/issues/{number}/comments", f.list)
	mux.HandleFunc("POST /repos/{owner}/{repo}/issues/{number}/comments", f.create)
	mux.HandleFunc("PATCH /repos/{owner}/{repo}/issues/comments/{id}", f.update)
	mux.HandleFunc("GET /user", f.user)
	srv := httptest.NewServer(f.auth(mux))
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeGitHub) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+f.token {
			http.Error(w, `{"message":"Bad credentials"}`, http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (f *fakeGitHub) checkRepo(w http.ResponseWriter, r *http.Request) bool {
	if r.PathValue("owner")+"/"+r.PathValue("repo") != f.repo {
		http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
		return false
	}
	return true
}

// seed adds a comment by someone else.
func (f *fakeGitHub) seed(number int, login, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := &comment{ID: f.nextID, Body: body}
	f.nextID++
	c.User.Login, c.User.Type = login, "User"
	f.comments[number] = append(f.comments[number], c)
}

func (f *fakeGitHub) list(w http.ResponseWriter, r *http.Request) {
	if !f.checkRepo(w, r) {
		return
	}
	n, _ := strconv.Atoi(r.PathValue("number"))
	per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
	if per <= 0 {
		per = 30
	}
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	if page <= 0 {
		page = 1
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lists++
	all := f.comments[n]
	lo, hi := min((page-1)*per, len(all)), min(page*per, len(all))
	writeJSON(w, http.StatusOK, append([]*comment{}, all[lo:hi]...))
}

func (f *fakeGitHub) create(w http.ResponseWriter, r *http.Request) {
	if !f.checkRepo(w, r) {
		return
	}
	var req struct{ Body *string }
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Body == nil {
		http.Error(w, `{"message":"Invalid request"}`, http.StatusUnprocessableEntity)
		return
	}
	if len([]rune(*req.Body)) > 65536 {
		http.Error(w, `{"message":"Validation Failed: body is too long (maximum is 65536 characters)"}`, http.StatusUnprocessableEntity)
		return
	}
	n, _ := strconv.Atoi(r.PathValue("number"))
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.refuse {
		http.Error(w, `{"message":"Resource not accessible by integration"}`, http.StatusForbidden)
		return
	}
	f.creates++
	c := &comment{ID: f.nextID, Body: *req.Body}
	f.nextID++
	c.User.Login, c.User.Type = "github-actions[bot]", "Bot"
	if f.author != "" {
		c.User.Login, c.User.Type = f.author, "User"
	}
	f.comments[n] = append(f.comments[n], c)
	writeJSON(w, http.StatusCreated, c)
}

func (f *fakeGitHub) update(w http.ResponseWriter, r *http.Request) {
	if !f.checkRepo(w, r) {
		return
	}
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	var req struct{ Body *string }
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Body == nil {
		http.Error(w, `{"message":"Invalid request"}`, http.StatusUnprocessableEntity)
		return
	}
	if len([]rune(*req.Body)) > 65536 {
		http.Error(w, `{"message":"Validation Failed: body is too long (maximum is 65536 characters)"}`, http.StatusUnprocessableEntity)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.refuse {
		http.Error(w, `{"message":"Resource not accessible by integration"}`, http.StatusForbidden)
		return
	}
	for _, cs := range f.comments {
		for _, c := range cs {
			if c.ID == id {
				f.updates++
				c.Body = *req.Body
				writeJSON(w, http.StatusOK, c)
				return
			}
		}
	}
	http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
}

func (f *fakeGitHub) user(w http.ResponseWriter, _ *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.login == "" {
		http.Error(w, `{"message":"Resource not accessible by integration"}`, http.StatusForbidden)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"login": f.login})
}

// bodies are the pull request's comments' bodies, in order.
func (f *fakeGitHub) all(number int) []comment {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []comment
	for _, c := range f.comments[number] {
		out = append(out, *c)
	}
	return out
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// requests counts the list, create and update calls served so far.
func (f *fakeGitHub) requests() (lists, creates, updates int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lists, f.creates, f.updates
}

// refuseWrites makes create and update answer 403 from now on.
func (f *fakeGitHub) refuseWrites() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refuse = true
}
