hidden = true
