package testhook

// StopAfterAttemptEnv names the variable that, in test builds, makes
// herald stop itself with SIGSTOP right after it has journaled an attempt
// of the message whose address the variable holds, before the request is
// written: a real frozen process, for the suite's frozen-replica scenario.
// Only the first such attempt stops the process.
const StopAfterAttemptEnv = "HERALD_TEST_STOP_AFTER_ATTEMPT"
