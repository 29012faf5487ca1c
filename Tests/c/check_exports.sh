#!/usr/bin/env bash
# Every function declared in include/orderbase.h is exported by the library,
# the library exports nothing else (global dynamic symbols), and it has a SONAME.
set -euo pipefail
lib=$1 header=$2
passed=0 failed=0
declared=$(grep -oE '^[a-z_ *]+[ *]orderbase_[a-z_]+\(' "$header" | grep -oE 'orderbase_[a-z_]+\($' | tr -d '(' | sort -u)
# Uppercase nm types are global/weak; lowercase (local) entries are not exports.
exported=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[A-Z]$/ {print $3}' | sed 's/@.*//' | sort -u)
missing=$(comm -23 <(echo "$declared") <(echo "$exported"))
extra=$(comm -13 <(echo "$declared") <(echo "$exported"))
if [ -z "$missing" ]; then passed=$((passed+1)); else failed=$((failed+1)); echo "declared but not exported: $missing"; fi
if [ -z "$extra" ]; then passed=$((passed+1)); else failed=$((failed+1)); echo "exported but not declared: $extra"; fi
if [ "$(echo "$declared" | wc -l)" -ge 12 ]; then passed=$((passed+1)); else failed=$((failed+1)); echo "header parse found too few functions"; fi
soname=$(readelf -d "$lib" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
if [ "$soname" = "liborderbase.so.0" ]; then passed=$((passed+1)); else failed=$((failed+1)); echo "SONAME is '$soname'"; fi
echo "exports: $(echo "$declared" | wc -l) declared, $(echo "$exported" | wc -l) exported"
echo "check_exports: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
