//! The minijinja environment for config templates and `{{ }}` expressions.
