"""Appeals coming in: the citizen's filing (staged uploads, scanning, submission), the
clerks' registration of paper and oral appeals, and imports of old registers."""
