//! bisect-step: placeholder; see the issue for what it becomes.
