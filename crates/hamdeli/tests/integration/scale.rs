//! Every page at national scale: the query-plan test and paging.
