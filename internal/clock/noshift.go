//go:build !heraldtestclock

package clock

const shiftable = false
