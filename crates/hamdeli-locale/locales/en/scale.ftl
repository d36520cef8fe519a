# scale (capability catalog; keys must match the other language's file)
scale-next-page = Next page
# The allocation page of a campaign with more candidate needs than a dry run shows in full
allocate-overview-lead = This campaign has { $n } candidate needs for this resource: too many to show each one's share before committing. They are counted below by province, urgency and need type, and listed a page at a time. Committing computes each need's exact share with the same rules, in one transaction, and never gives a need more than its amount.
allocate-overview-open = Still needed
allocate-overview-covers = Of what is still needed, the pool meets
allocate-overview-water-fill = Fair (water-fill): every eligible need gets the same share of what it lacks times its weight (priority score and urgency), never more than it lacks, as far as the pool goes. Support received elsewhere in the campaign's period is deducted first.
allocate-overview-priority = Priority: the needs with the highest weight are met in full first, until the pool runs out. Support received elsewhere in the campaign's period is deducted first.
allocate-overview-eligible = Eligible
allocate-overview-eligible-needs = Eligible needs
allocate-overview-candidates = Candidate needs
allocate-overview-covers-pct = { $pct }%
