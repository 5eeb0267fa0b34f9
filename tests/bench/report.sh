#!/usr/bin/env bash
# tests/bench/report.sh RESULTS.tsv OUTDIR: the Markdown table (bench.md)
# and, with gnuplot, the plot (bench.png) of a tests/bench/run.sh run.
# A cell is "median (min..max)" over the runs; one column per VMM.
set -uo pipefail
res=$1 out=$2
md=$out/bench.md
# Every "host (...)" row goes to the one host column; the header says
# what the host ran for each group.
vmms=("lkvm" "QEMU microvm" "QEMU pc" "host")

{
	echo "Measured $(date -u +%Y-%m-%d) on $(uname -n): $(nproc) CPUs" \
	     "($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1))," \
	     "$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)," \
	     "Linux $(uname -r); $(qemu-system-x86_64 --version 2>/dev/null | head -1)."
	echo "Median of the runs, (min..max) after it; host: the same work" \
	     "without a VM, the ceiling (start-up: /bin/true; disk: fio on the" \
	     "same file, libaio; network: the same sender and receiver on a" \
	     "veth pair)."
	echo
	printf '| figure | unit |'
	for v in "${vmms[@]}"; do printf ' %s |' "$v"; done
	echo
	printf '|---|---|'
	for _ in "${vmms[@]}"; do printf -- '---:|'; done
	echo
	awk -F'\t' -v list="$(printf '%s\n' "${vmms[@]}")" '
		BEGIN { n = split(list, v, "\n") }
		!($1 in seen) { seen[$1] = 1; order[++nf] = $1; unit[$1] = $6 }
		function fmt(x) { return x >= 100 ? sprintf("%.0f", x) : sprintf("%.3g", x) }
		{
			cell = fmt($3)
			if ($7 > 1)
				cell = cell " (" fmt($4) ".." fmt($5) ")"
			c[$1, ($2 ~ /^host/) ? "host" : $2] = cell
		}
		END {
			for (i = 1; i <= nf; i++) {
				f = order[i]
				printf "| %s | %s |", f, unit[f]
				for (j = 1; j <= n; j++)
					printf " %s |", ((f, v[j]) in c) ? c[f, v[j]] : ""
				printf "\n"
			}
		}' "$res"
} >"$md"
cat "$md"

command -v gnuplot >/dev/null || { echo "report: gnuplot not installed, no plot (Debian package gnuplot-nox)"; exit 0; }
# One data file per panel: figure, lkvm, QEMU microvm (medians).
pivot() {	# pivot REGEX > file
	awk -F'\t' -v re="$1" '
		$1 ~ re && !($1 in seen) { seen[$1] = 1; order[++n] = $1 }
		$1 ~ re { m[$1, ($2 ~ /^host/) ? "host" : $2] = $3 }
		END {
			for (i = 1; i <= n; i++) {
				f = order[i]
				l = ((f, "lkvm") in m) ? m[f, "lkvm"] : "NaN"
				q = ((f, "QEMU microvm") in m) ? m[f, "QEMU microvm"] : "NaN"
				h = ((f, "host") in m) ? m[f, "host"] : "NaN"
				gsub(/^(exit guest: (exec to )?|idle RSS, |blk buffered 4K )/, "", f)
				printf "\"%s\" %s %s %s\n", f, l, q, h
			}
		}' "$res"
}
pivot '^exit guest: ' >"$out/start.dat"
pivot '^idle RSS' >"$out/rss.dat"
pivot '^blk buffered 4K.*depth [0-9]+$' >"$out/blk.dat"
# A panel per data file that has rows.
panels=0
for d in start rss blk; do [ -s "$out/$d.dat" ] && panels=$((panels + 1)); done
[ $panels -gt 0 ] || exit 0
{
	echo 'set terminal pngcairo size 1400,'$((panels * 340))' font ",10"'
	echo "set output \"$out/bench.png\""
	echo "set multiplot layout $panels,1 title \"lkvm and QEMU microvm, same guests, same run ($(date -u +%Y-%m-%d), $(uname -n))\""
	echo 'set style data histograms; set style histogram clustered gap 1'
	echo 'set style fill solid 0.8 border -1; set key top left; set grid ytics'
	echo 'set xtics noenhanced; set yrange [0:*]'
	[ -s "$out/start.dat" ] && echo "set title 'start-up, the exit guest (ms, lower is better)'
plot '$out/start.dat' using 2:xtic(1) title 'lkvm', '' using 3 title 'QEMU microvm'"
	[ -s "$out/rss.dat" ] && echo "set title 'resident set, idle 128 MiB guest (MiB, lower is better)'
plot '$out/rss.dat' using 2:xtic(1) title 'lkvm', '' using 3 title 'QEMU microvm'"
	[ -s "$out/blk.dat" ] && echo "set title 'virtio-blk 4 KiB random I/O, buffered raw file (IOPS, higher is better)'
plot '$out/blk.dat' using 2:xtic(1) title 'lkvm', '' using 3 title 'QEMU microvm', '' using 4 title 'host (fio)'"
	echo 'unset multiplot'
} | gnuplot || echo "report: gnuplot failed" >&2
echo "report: $md, $out/bench.png"
