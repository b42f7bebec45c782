"""Product knowledge: the catalog as a networkx graph, importing external catalogs, and linking user text to products."""

from .amazon import AmazonImport, ImportStats, import_amazon_csv
from .catalog import Attribute, Catalog, Product
from .linker import ProductLinker

__all__ = ["AmazonImport", "Attribute", "Catalog", "ImportStats", "Product", "ProductLinker", "import_amazon_csv"]
