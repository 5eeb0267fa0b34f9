#!/usr/bin/env bash
# Every memory barrier in lkvm's source has a row in the table of
# tests/models/README.md (file, function, barrier, its pair, what it
# forbids, the model and the mutant that prove it needed), and every row
# names a barrier that is still there.  A new smp_mb/smp_wmb/smp_rmb/
# smp_mb__after_rmw/smp_store_release/smp_load_acquire (or a macro
# wrapping one) without a row fails here.
. "$(dirname "$0")/../lib/tap.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
readme=$top/tests/models/README.md
[ -f "$readme" ] || skip_all "no $readme"

# file<TAB>function<TAB>barrier for each barrier in the source.
scan() {
	cd "$top" || exit 1
	find main.c kvm virtio hw ctl net disk fs x86 arm sandbox term cli \
	     include -name '*.[ch]' 2>/dev/null | sort |
	while read -r f; do
		awk -v file="$f" '
		# Macros wrapping a barrier count as it (vring_full_barrier()).
		/^#define[ \t]+[a-z_]+\(\)[ \t]+smp_(mb|wmb|rmb)\(\)/ {
			name = $2; sub(/\(\)$/, "", name)
			b = $3; sub(/\(\)$/, "", b)
			alias[name] = b
			next
		}
		/^#/ { next }
		# A function definition starts in column 0 (kernel style).
		/^[A-Za-z_][A-Za-z_0-9 \t\*]*\(/ && !/;[ \t]*$/ {
			fn = $0
			sub(/\(.*/, "", fn)
			n = split(fn, w, /[ \t\*]+/)
			fn = w[n]
		}
		{
			line = $0
			sub(/\/\*.*\*\//, "", line)
			if (line ~ /^[ \t]*\*/ || line ~ /^[ \t]*\/\*/)
				next
			while (match(line, /[a-z_]+\(/)) {
				call = substr(line, RSTART, RLENGTH - 1)
				empty = substr(line, RSTART + RLENGTH, 1) == ")"
				line = substr(line, RSTART + RLENGTH)
				if (empty && call ~ /^smp_(mb|wmb|rmb|mb__after_rmw)$/)
					print file "\t" fn "\t" call
				else if (call ~ /^smp_(store_release|load_acquire)$/)
					print file "\t" fn "\t" call
				else if (empty && (call in alias))
					print file "\t" fn "\t" alias[call]
			}
		}' "$f"
	done
}

# The same triples from the table's rows.
rows() {
	awk -F'|' '
	/^\| *`?[a-z0-9_\/.-]+\.[ch]`? *\|/ {
		for (i = 2; i <= 4; i++) {
			gsub(/^[ \t`]+|[ \t`()]+$/, "", $i)
		}
		if ($4 ~ /^smp_/)
			print $2 "\t" $3 "\t" $4
	}' "$readme"
}

src=$(scan | sort)
tab=$(rows | sort)
missing=$(comm -23 <(echo "$src" | uniq -c | awk '{print $2"\t"$3"\t"$4" x"$1}' | sort) \
		   <(echo "$tab" | uniq -c | awk '{print $2"\t"$3"\t"$4" x"$1}' | sort))
stale=$(comm -13 <(echo "$src" | sort -u) <(echo "$tab" | sort -u))

plan 3
[ -n "$src" ]
ok $? "the scan finds the source's barriers ($(echo "$src" | grep -c .))"
[ -z "$missing" ]
ok $? "every barrier in the source has its row in tests/models/README.md"
[ -n "$missing" ] && echo "$missing" | sed 's/^/# no row (or too few) for: /'
[ -z "$stale" ]
ok $? "every row of the table names a barrier still in the source"
[ -n "$stale" ] && echo "$stale" | sed 's/^/# no such barrier now: /'
done_testing
