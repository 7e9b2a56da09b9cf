//! crashclass: placeholder; see the issue for what it becomes.
