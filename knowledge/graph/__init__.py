"""Product knowledge: the catalog as a networkx graph, importing external catalogs, linking user text to
products, and reasoning over them (query constraints, filtered search, comparisons, attribute meaning)."""

from .amazon import AmazonImport, ImportStats, import_amazon_csv
from .catalog import Attribute, Catalog, Product
from .constraints import AttrConstraint, ProductQuery, understand
from .linker import ProductLinker
from .query import ProductQA
from .search import ProductSearch, SearchResult
from .vocabulary import CatalogVocabulary

__all__ = ["AmazonImport", "AttrConstraint", "Attribute", "Catalog", "CatalogVocabulary", "ImportStats", "Product",
           "ProductLinker", "ProductQA", "ProductQuery", "ProductSearch", "SearchResult", "import_amazon_csv",
           "understand"]
