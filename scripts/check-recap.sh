#!/usr/bin/env bash
# scripts/check-recap.sh DIR: the end of a failed make check.  DIR holds
# the output scripts/tap-keep.sh kept of each failed test; this prints
# every "not ok" with the diagnostics around it, then one line per failed
# test, so that the last lines of the run say what failed and why.
set -u
dir=$1
shopt -s nullglob
files=("$dir"/*)
[ ${#files[@]} -gt 0 ] || exit 0

summary=()
for f in "${files[@]}"; do
	read -r st name <"$f"
	echo "==== failed: $name (exit $st)"
	# Each "not ok" with the comment lines around it, at most 12 either
	# side: some tests print their evidence before the verdict.
	fails=$(tail -n +2 "$f" | awk '
		/^not ok/ && !/# *TODO/ {
			for (i = (nb > 12 ? nb - 12 : 0); i < nb; i++)
				print buf[i]
			nb = 0; n = 12; print; next
		}
		/^#/ { if (n > 0) { n--; print } else buf[nb++] = $0; next }
		{ n = 0; nb = 0 }')
	if [ -n "$fails" ]; then
		printf '%s\n' "$fails" | head -n 60
	else
		# No "not ok": it died or broke its plan; its last words.
		echo "# planned $(tail -n +2 "$f" | sed -n 's/^1\.\.//p' |
			head -n 1), ran $(grep -cE '^(not )?ok' "$f"); the last lines:"
		tail -n +2 "$f" | tail -n 12
	fi
	what=$(tail -n +2 "$f" | grep -v '# *TODO' | grep '^not ok' |
		sed 's/^not ok \([0-9]*\).*/\1/' | head -n 8 | paste -sd, -)
	summary+=("$name (exit $st${what:+, not ok $what})")
done
echo "make check: ${#summary[@]} test file(s) failed:"
printf '  %s\n' "${summary[@]}"
