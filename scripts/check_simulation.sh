#!/usr/bin/env bash
# Sanity checks of data sets written by scripts/simulate_training.sh: that the reads really
# carry the labelled variants (catches wrong coordinates, contig names or haplotype
# assembly), and that depth matches the request.
# Usage: scripts/check_simulation.sh OUTDIR [NAME...]
# Prints, per data set: reads / mapped / properly paired, mean depth over regions.bed,
# truth records, and the mean ALT fraction of truth SNVs by genotype (het ~0.5, hom ~1.0)
# measured with samtools mpileup. Exits non-zero when the allele fractions are implausible.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 OUTDIR [NAME...]" >&2; exit 2; }
OUTDIR=$1; shift
MANIFEST=$OUTDIR/manifest.tsv
[ -s "$MANIFEST" ] || { echo "check_simulation: no $MANIFEST" >&2; exit 1; }
want=" $* "
status=0

printf 'name\treads\tmapped%%\tpaired%%\tmean_depth_bed\ttruth\ttruth_in_bed\thet_snv_n\thet_alt_frac\thom_snv_n\thom_alt_frac\n'
while IFS=$'\t' read -r name ref bam truth bed depth build sample; do
  [ "$name" = name ] && continue
  if [ $# -gt 0 ] && [[ "$want" != *" $name "* ]]; then continue; fi
  fs=$(samtools flagstat "$bam")
  reads=$(awk 'NR==1{print $1}' <<< "$fs")
  mapped=$(awk '/ mapped \(/ && !/primary/{print $1; exit}' <<< "$fs")
  paired=$(awk '/properly paired/{print $1; exit}' <<< "$fs")
  paired_total=$(awk '/paired in sequencing/{print $1; exit}' <<< "$fs")
  mean_depth=$(samtools depth -a -b "$bed" "$bam" | awk '{s+=$3; n++} END{printf "%.2f", n ? s/n : 0}')
  ntruth=$(bcftools view -H "$truth" | wc -l)
  nbed=$(bcftools view -H -T "$bed" "$truth" | wc -l)
  # Biallelic SNVs inside the bed: REF/ALT and genotype class.
  bcftools view -H -T "$bed" -m2 -M2 -v snps "$truth" \
    | awk -F'\t' '{split($10,f,":"); g=f[1]; gsub(/\|/,"/",g); c=(g=="1/1")?"hom":"het"; print $1"\t"$2"\t"$5"\t"c}' > "$OUTDIR/.check_$name.snv"
  cut -f1,2 "$OUTDIR/.check_$name.snv" > "$OUTDIR/.check_$name.pos"
  # -B -Q0 -q0: count every read as it is, the allele fraction is what is being tested.
  af=$(samtools mpileup -B -Q 0 -q 0 -d 100000 -f "$ref" -l "$OUTDIR/.check_$name.pos" "$bam" 2>/dev/null \
    | awk -F'\t' -v snv="$OUTDIR/.check_$name.snv" '
      BEGIN{while ((getline l < snv) > 0) {split(l,a,"\t"); alt[a[1]":"a[2]]=toupper(a[3]); cls[a[1]":"a[2]]=a[4]}}
      {
        k=$1":"$2; if (!(k in alt)) next
        s=$5; gsub(/\^./,"",s); gsub(/\$/,"",s)
        # drop indel annotations (+3ACG / -2TT): counted-length, so walk the string
        out=""; i=1
        while (i<=length(s)) {
          ch=substr(s,i,1)
          if (ch=="+" || ch=="-") { j=i+1; num=""; while (substr(s,j,1) ~ /[0-9]/) {num=num substr(s,j,1); j++} i=j+num; continue }
          out=out ch; i++
        }
        n=length(out); if (n==0) next
        nalt=gsub(alt[k], "", out) + gsub(tolower(alt[k]), "", out)
        sum[cls[k]]+=nalt/n; cnt[cls[k]]++
      }
      END{printf "%d\t%.3f\t%d\t%.3f", cnt["het"], cnt["het"]?sum["het"]/cnt["het"]:0, cnt["hom"], cnt["hom"]?sum["hom"]/cnt["hom"]:0}')
  rm -f "$OUTDIR/.check_$name.snv" "$OUTDIR/.check_$name.pos"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$reads" \
    "$(awk -v a="$mapped" -v b="$reads" 'BEGIN{printf "%.2f", 100*a/b}')" \
    "$(awk -v a="$paired" -v b="$paired_total" 'BEGIN{printf "%.2f", b ? 100*a/b : 0}')" \
    "$mean_depth" "$ntruth" "$nbed" "$af"
  # Het SNVs should sit near 0.5 and hom near 1.0 on average; far off means mislabelled.
  awk -F'\t' -v af="$af" 'BEGIN{split(af,x,"\t"); exit !((x[1]==0 || (x[2]>0.4 && x[2]<0.6)) && (x[3]==0 || x[4]>0.95))}' \
    || { echo "check_simulation: $name: implausible allele fractions ($af)" >&2; status=1; }
  awk -v d="$mean_depth" -v t="$depth" 'BEGIN{exit !(d > 0.85*t && d < 1.15*t)}' \
    || { echo "check_simulation: $name: mean depth $mean_depth far from requested $depth" >&2; status=1; }
done < "$MANIFEST"
exit $status
