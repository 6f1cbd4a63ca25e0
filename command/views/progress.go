package views

import (
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progressBar is apply's bar on a terminal: messages handled out of the
// total, the rate, the time left, and counts of what did not simply go
// out. A nil *progressBar writes lines straight to the stream it was
// meant for, so callers need not check.
type progressBar struct {
	w   io.Writer
	bar *progressbar.ProgressBar

	sent, expired, failed, retries int
}

func newProgressBar(w io.Writer, total int, color bool) *progressBar {
	p := &progressBar{w: w}
	p.bar = progressbar.NewOptions(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(p.description()),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("msg"),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionEnableColorCodes(color),
		progressbar.OptionSetRenderBlankState(true),
		progressbar.OptionShowElapsedTimeOnFinish(),
	)
	return p
}

func (p *progressBar) description() string {
	d := fmt.Sprintf("sending (%d sent", p.sent)
	if p.expired > 0 {
		d += fmt.Sprintf(", %d expired", p.expired)
	}
	if p.failed > 0 {
		d += fmt.Sprintf(", %d failed or unknown", p.failed)
	}
	if p.retries > 0 {
		d += fmt.Sprintf(", %d retries", p.retries)
	}
	return d + ")"
}

// step counts one message handled.
func (p *progressBar) step() {
	if p == nil {
		return
	}
	p.bar.Describe(p.description())
	p.bar.Add(1)
}

// done counts a message that failed or became unknown.
func (p *progressBar) done() {
	if p == nil {
		return
	}
	p.failed++
	p.step()
}

// render redraws after a count that does not advance the bar changed.
func (p *progressBar) render() {
	if p == nil {
		return
	}
	p.bar.Describe(p.description())
}

// above prints s on its own line above the bar.
func (p *progressBar) above(s string) {
	p.bar.Clear()
	io.WriteString(p.w, s+"\n")
	p.bar.RenderBlank()
}

// finish leaves the bar as it stands: an interrupted run must not show
// a full bar.
func (p *progressBar) finish() {
	p.bar.Exit()
	io.WriteString(p.w, "\n")
}
